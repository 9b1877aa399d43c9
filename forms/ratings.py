"""The rating forms: the citizen's page (phone) and the window's tablet (kiosk) [models.voice]."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectChoice, SelectMultipleField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from models.voice import BAD_LEVELS, BAD_REASONS, DIMENSIONS, LEVELS

LEVEL_TITLES = {
    "very_satisfied": _l("Very satisfied"),
    "satisfied": _l("Satisfied"),
    "fair": _l("Fairly satisfied"),
    "dissatisfied": _l("Dissatisfied"),
    "very_dissatisfied": _l("Very dissatisfied"),
}
DIMENSION_TITLES = {
    "efficiency": _l("Speed of service"),
    "competence": _l("Staff competence"),
    "attitude": _l("Staff attitude"),
}
REASON_TITLES = {
    "guide_unclear": _l("The service guide was unclear"),
    "extra_materials": _l("I was asked for materials not on the list"),
    "many_trips": _l("I had to come more than once"),
    "too_slow": _l("It took too long or missed the promised date"),
    "attitude": _l("The staff were unfriendly"),
    "competence": _l("The staff did not know the business"),
    "unfair_fee": _l("I was charged an unjustified fee"),
    "other": _l("Another reason (write it below)"),
}
LEVEL_CHOICES = [SelectChoice(code, LEVEL_TITLES[code]) for code in LEVELS]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RatingForm(FlaskForm):
    level = RadioField(_l("Overall, how satisfied are you?"), choices=LEVEL_CHOICES,
                       validators=[InputRequired(_l("Choose one of the five levels."))])
    efficiency = RadioField(DIMENSION_TITLES["efficiency"], choices=LEVEL_CHOICES, validators=[Optional()])
    competence = RadioField(DIMENSION_TITLES["competence"], choices=LEVEL_CHOICES, validators=[Optional()])
    attitude = RadioField(DIMENSION_TITLES["attitude"], choices=LEVEL_CHOICES, validators=[Optional()])
    reasons = MultiCheckboxField(_l("What went wrong?"), choices=[SelectChoice(c, REASON_TITLES[c]) for c in BAD_REASONS],
                                 validate_choice=True)
    reason_text = TextAreaField(_l("In your own words"), validators=[Length(max=500)])

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.level.data in BAD_LEVELS:
            text = (self.reason_text.data or "").strip()
            if not self.reasons.data and not text:
                self.reasons.errors = [*self.reasons.errors,
                                       _l("A bad review needs a reason: tick one or write it below.")]
                ok = False
            elif "other" in (self.reasons.data or []) and not text:
                self.reason_text.errors = [*self.reason_text.errors, _l("Write the other reason here.")]
                ok = False
        return ok

    def dimensions(self) -> dict[str, str]:
        return {name: getattr(self, name).data or "" for name in DIMENSIONS}


class KioskRatingForm(RatingForm):
    """The tablet: the five levels are buttons; a bad level then asks for its reasons on a second screen."""
    case_id = HiddenField()
    stage = HiddenField()   # "reasons" on the second screen
