"""The credential half of the engine: passwords, tokens and keys, turned into one `Principal`."""
