"""Sign-in, registration and passwords."""
