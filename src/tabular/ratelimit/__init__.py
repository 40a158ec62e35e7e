"""The rate limiter: sliding-window quotas (`window`), counted in this process or in Redis, applied by a middleware."""
