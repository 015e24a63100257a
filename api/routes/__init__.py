"""HTTP routes, thin: they validate, call the engine and shape responses."""
