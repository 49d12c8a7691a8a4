"""The back-office workbench: queues, the case page, claiming, decisions, and the audit of who looked."""
