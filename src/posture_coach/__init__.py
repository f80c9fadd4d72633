"""posture-coach: a computer-vision coach for customer-service etiquette."""

__version__ = "0.1.0"
