"""The form macros tell screen readers which field is wrong and where its message is."""

import re

from flask import render_template_string
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField

PAGE = """{% from "_macros/forms.html" import field %}{% from "patients/_checkbox.html" import checkbox %}
{{ field(form.name) }}{{ checkbox(form.agree) }}{{ field(second.name) }}"""


class _Form(FlaskForm):
    name = StringField("Name")
    agree = BooleanField("I agree")


def _render(app, *, errors: bool) -> str:
    with app.test_request_context():
        form, second = _Form(meta={"csrf": False}), _Form(meta={"csrf": False})
        if errors:
            form.name.errors = ["Say your name."]
            form.agree.errors = ["Tick the box."]
        return render_template_string(PAGE, form=form, second=second)


def _tag(html: str, element_id: str) -> str:
    return re.search(rf'<input[^>]*id="{element_id}"[^>]*>', html).group()


def test_an_invalid_field_and_checkbox_point_at_their_messages(app):
    html = _render(app, errors=True)
    for element_id, message in (("name", "Say your name."), ("agree", "Tick the box.")):
        tag = _tag(html, element_id)
        assert 'aria-invalid="true"' in tag
        described = re.search(r'aria-describedby="([^"]+)"', tag).group(1)
        assert re.search(rf'id="{described}">\s*<div class="invalid-feedback">{re.escape(message)}', html)


def test_a_valid_field_is_not_marked_and_ids_stay_unique(app):
    html = _render(app, errors=False)
    assert "aria-invalid" not in html
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)) and "name-2" in ids
