"""Placeholder until this API area is implemented."""

from flask import Blueprint

bp = Blueprint("resources", __name__)
