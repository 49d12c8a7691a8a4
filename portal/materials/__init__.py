"""Materials: uploads, content checks and their encrypted storage (stream cipher, file keys, storage backends)."""
