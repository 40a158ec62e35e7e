"""Business logic: one service per aggregate; handlers call exactly one method."""
