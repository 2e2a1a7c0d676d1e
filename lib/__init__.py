"""Helpers that know nothing of medical assistance: table reading, chunking, spreadsheet text safety,
Chinese capitals, SQL literals, advisory locks and queueing tasks by name. Tested in tests/lib/."""
