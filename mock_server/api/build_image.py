"""Placeholder until this API area is implemented."""

from flask import Blueprint

bp = Blueprint("build_image", __name__)
