from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length


class VoidForm(FlaskForm):
    reason = TextAreaField(_l("Reason for voiding"), validators=[
        DataRequired(_l("Please give a reason.")), Length(max=500, message=_l("Too long."))])
