"""Events people sign in to: roadshows and trainings, registrations and QR check-in (人次)."""
