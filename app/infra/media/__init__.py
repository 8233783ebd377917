"""Media adapters: Pillow processing, local-directory and S3-compatible storage."""
