"""Mentors' content: the module editor, publishing, images and the course import."""
