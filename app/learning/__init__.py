"""What learners do: the course pages, modules, quizzes and progress."""
