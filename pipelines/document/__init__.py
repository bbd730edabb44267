"""The stored document: front matter and body rendered in the contract's format, and read back."""
