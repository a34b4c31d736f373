"""Placeholder until this API area is implemented."""

from flask import Blueprint

bp = Blueprint("data_transfer", __name__)
