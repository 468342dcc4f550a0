"""Quality inspection of every finished call (智能质检): see README.md."""
