"""HTTP translation shared by every function: requests in, use case calls, status codes out."""
