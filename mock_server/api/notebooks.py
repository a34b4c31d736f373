"""Placeholder until this API area is implemented."""

from flask import Blueprint

bp = Blueprint("notebooks", __name__)
