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
from models.staff import LeaveSlip, PostCover  # noqa: F401
from models.roster import Rotation, StaffProfile, Training  # noqa: F401
from models.attendance import AttendanceDay, AttendanceImport, AttendancePublication, WorkSchedule  # noqa: F401
from models.extended_hours import ExtendedService, ExtendedServiceClerk, ExtendedServiceRefusal  # noqa: F401
from models.accountability import AccountabilityRecord, ReturnRecommendation  # noqa: F401
from models.queue import QueueTicket  # noqa: F401
from models.appointment import Appointment, AppointmentRule, HolidayDuty  # noqa: F401
from models.agency import Entrustment, EntrustmentMaterial  # noqa: F401
from models.village import VillageEntry  # noqa: F401
from models.home_visit import HomeVisit  # noqa: F401
