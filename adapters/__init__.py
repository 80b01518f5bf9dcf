"""dmj's edges to the outside world: the data package, Discord's HTTP API and DCE."""
