"""Certificates (参保凭证, 参保证明): issued at once as cases of the catalog's certificate items, printable as
HTML and as signed PDF, each with a verification code and QR leading to a public confirmation page."""
