"""Typed SQLAlchemy models. Importing this package registers every table."""
from models.core import AuditEntry, Center, IssuedForm, RoleGrant, SubmissionToken, User  # noqa: F401
from models.record import RecordMixin  # noqa: F401
from models.catalogue import Department, Matter, MatterMaterial, Post, Window  # noqa: F401
from models.numbering import FormCounter  # noqa: F401
from models.holiday import HolidayDay, HolidayYear  # noqa: F401
from models.notification import JobRun, Notification  # noqa: F401
from models.case import CaseExtension, CaseHandover, CaseMaterial, ServiceCase  # noqa: F401
from models.voice import Rating, RatingCase  # noqa: F401
from models.bad_review import BadReview, DishonestRater  # noqa: F401
from models.complaint import Complaint  # noqa: F401
