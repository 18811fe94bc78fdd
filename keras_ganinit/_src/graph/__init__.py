"""Walking a model: its layers, its graph, and what each layer computes on data."""
