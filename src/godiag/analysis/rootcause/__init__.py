"""Root-cause ranking of a live Go service: features, a trained ranker, locations."""
