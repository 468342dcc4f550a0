"""Understanding the citizen: ASR text → structured draft."""
