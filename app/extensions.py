"""Every extension instance lives here, so that no module imports another in circles."""

from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from .db import Database

db = Database()
csrf = CSRFProtect()
login_manager = LoginManager()
