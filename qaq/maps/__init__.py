"""Maps and neighbours of rows from their embeddings: comparable vectors, nearest neighbours, a 2-D layout."""
