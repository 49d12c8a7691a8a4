"""The portal's side of the national platform: an outbox of messages to send (filing reports, transfer documents),
delivered by ``portal national work`` with retries, and an inbox of messages received (``portal national pull``),
each stored once and handed to the feature that registered for its type.

The port itself (the protocol, the schemas, the adapters) is ``portal/integrations/national``; this package is the
only one that calls it for sending and receiving, so a change and the message announcing it commit together.
"""
