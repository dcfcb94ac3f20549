"""HR: the programme dashboard, its exports and the people import."""
