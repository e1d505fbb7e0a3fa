"""What serves a trained model: SavedModels for TF Serving, generation in the graph, LiteRT and ONNX."""
