"""Maillage matching engine: embeddings, retrieval, features, ranking, explanations, storage."""
