"""WSGI entry point: `app` for waitress/gunicorn, `flask --app wsgi …` for the command line."""
from app import create_app

app = create_app()
