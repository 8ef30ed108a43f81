"""gatescope.analysis: state recording, forgetting speed, phone selectivity, distributions and reports."""
