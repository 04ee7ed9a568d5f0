"""What leaves the toolkit as files: the one CSV writer and PM import profiles."""
