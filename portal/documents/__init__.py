"""Printable documents: the shared PDF machinery (``pdf.py``: font, wrapping, text, QR placement; ``qr.py``),
and receipts (业务单) as HTML pages and PDFs, with the QR code to follow a case. Every other document's layout
lives with its feature (certificates, the 异地就医登记备案表).

The PDFs embed the bundled TrueType font (``fonts/wqy-microhei.ttc``), never a system font, so they look
the same on every machine and their Chinese text can be searched and copied.
"""
