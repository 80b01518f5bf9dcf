"""Documents derived from the journal: batch-state.json, id-history.json, history exports."""
