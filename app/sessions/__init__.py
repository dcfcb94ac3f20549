"""Live mentor sessions: learners' and mentors' pages, booking, attendance and figures."""
