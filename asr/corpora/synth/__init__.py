"""The embedded synthetic corpus: eSpeak NG speech in TIMIT's layout with exact phone alignments."""
