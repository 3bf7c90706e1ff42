"""Near-optimal alternatives (coalition alternatives): the searches and their folder."""
