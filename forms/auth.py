import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

REQUIRED = _l("This field is required.")

PASSWORD_MIN_LENGTH = 10
# The most used passwords (international lists and the Chinese ones: pinyin, 5201314 …), lower case.
COMMON_PASSWORDS = frozenset("""
password passw0rd p@ssw0rd p@ssword password1 password12 password123 password1234 passwords
qwerty qwertyu qwertyui qwertyuiop qwertyuiop123 asdfghjkl asdfghjkl; zxcvbnm zxcvbnm123 qazwsx
1qaz2wsx 1qaz2wsx3edc 1q2w3e4r 1q2w3e4r5t 1q2w3e4r5t6y q1w2e3r4t5 q1w2e3r4t5y6 qweasdzxc qweasdzxc123
abc123 abc12345 abc123456 abc1234567 abcd1234 abcd12345 abcdefg abcdefgh abcdefghij a123456 a1234567
a12345678 a123456789 aa123456 aa12345678 abc123abc iloveyou iloveyou1 woaini woaini1314 woaini520
woaiwojia wodemima mima mima123 mima123456 zhang123 wang123 li123456 admin admin123 admin1234 admin12345
administrator root root1234 toor welcome welcome1 welcome123 letmein letmein123 monkey dragon
football baseball sunshine princess master master123 shadow superman michael trustno1 starwars
changeme changeme123 default test test123 test1234 guest guest123 user user123 login login123
hello hello123 helloworld qwe123 qwe123456 qwe123qwe asd123 asd123456 zxc123 zxc123456 aaa111
a1b2c3d4 a1b2c3d4e5 1a2b3c4d 1a2b3c4d5e abcabc abcabc123 computer internet
""".split())
_KEYBOARD_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm", "abcdefghijklmnopqrstuvwxyz")


def password_problem(password: str):
    """What is wrong with a new password (a message for beside the field), or None."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return _l("The password needs at least %(n)s characters.", n=PASSWORD_MIN_LENGTH)
    if password.isdigit():
        return _l("A password of digits only is too easy to guess: add letters or other characters.")
    lowered = password.lower()
    core = re.sub(r"[\d\W_]+$", "", lowered)  # password2026!, woaini1314 → their common root
    if lowered in COMMON_PASSWORDS or core in COMMON_PASSWORDS or len(set(lowered)) <= 2 \
            or any(lowered in row or lowered in row[::-1] for row in _KEYBOARD_ROWS):
        return _l("This password is among the most common ones: choose another (a short phrase is easy to remember).")
    return None


class StrongPassword:
    """WTForms validator: the rule for every password that is SET (not for logging in)."""

    def __call__(self, form, field):
        if field.data:
            problem = password_problem(field.data)
            if problem:
                raise ValidationError(str(problem))


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(REQUIRED), Length(max=60)])
    password = PasswordField(_l("Password"), validators=[DataRequired(REQUIRED)])


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(REQUIRED)])
    new = PasswordField(_l("New password"), validators=[
        DataRequired(REQUIRED), Length(max=128, message=_l("Too long.")), StrongPassword()])
    confirm = PasswordField(_l("Repeat the new password"), validators=[
        DataRequired(REQUIRED), EqualTo("new", message=_l("The two passwords differ."))])
