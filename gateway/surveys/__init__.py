"""Satisfaction surveys (回访): SMS now, voice (DTMF) from the IVR, one model for both."""
