from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from forms.auth import StrongPassword

REQUIRED = _l("This field is required.")


class CheckboxList(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class UserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[
        DataRequired(REQUIRED), Length(max=60, message=_l("Too long.")),
        Regexp(r"^[A-Za-z0-9_.-]+$", message=_l("Letters, digits, dot, dash and underscore only."))])
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=60, message=_l("Too long."))])
    phone = StringField(_l("Phone"), validators=[Optional(), Regexp(
        r"^(1\d{10}|0\d{2,3}-?\d{7,8})$", message=_l("Enter a mobile number (11 digits) or a landline such as 0737-1234567."))])
    dispatching_department = StringField(_l("Dispatching department"), validators=[Length(max=100)])
    roles = CheckboxList(_l("Roles in this centre"))
    active = BooleanField(_l("Active"), default=True)
    password = PasswordField(_l("Password"), validators=[
        Optional(), Length(max=128, message=_l("Too long.")), StrongPassword()],
        description=_l("Required for a new user; leave empty to keep the current password."))
    unlock = BooleanField(_l("Unlock after failed logins"))


class CenterForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=100, message=_l("Too long."))])
    code = StringField(_l("Code"), validators=[
        DataRequired(REQUIRED), Length(max=30, message=_l("Too long.")),
        Regexp(r"^[A-Za-z0-9_-]+$", message=_l("Letters, digits, dash and underscore only."))])
    kind = SelectField(_l("Kind"))
    parent_id = SelectField(_l("Belongs to"), coerce=int)
    address = StringField(_l("Address"), validators=[Length(max=200)])
    phone = StringField(_l("Phone"), validators=[Length(max=30)])
    complaint_phone = StringField(_l("Complaint phone"), validators=[Length(max=30)])
    active = BooleanField(_l("Active"), default=True)
