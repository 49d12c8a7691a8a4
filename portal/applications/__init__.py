"""办件: applications filed online, their lifecycle, deadlines, one-time notices, receipts and progress lookup."""
