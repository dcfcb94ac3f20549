"""People: roles, sites, managers, the administration page and the people import."""
