"""SMS delivery-status bot for SMS Center: the domain half (everything but Telegram handlers)."""
