"""Printable documents: receipts (业务单) as HTML pages and PDFs, with the QR code to follow a case.

The PDFs embed the bundled TrueType font (``fonts/wqy-microhei.ttc``), never a system font, so they look
the same on every machine and their Chinese text can be searched and copied.
"""
