"""A realistic demo county: one township centre with its hall, staff, posts and matter catalogue.

Everything is fictional (names, phones, codes); the structure follows the regulations: the nine
default windows [002 §8], A/B posts [000 AB岗], promises within 40 % of the statutory limit
[001 四(七)]. Later modules add their own records through DEMO_STEPS.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from app.extensions import db
from models.catalogue import DEFAULT_WINDOWS, Department, Matter, MatterMaterial, Post, Window
from models.core import ADMIN, AGENT, CLERK, COUNTY, DEPUTY, DIRECTOR, INSPECTOR, LEADER, Center, RoleGrant, User

DEMO_PASSWORD = "demo12345"


@dataclass
class DemoContext:
    county: Center
    township: Center
    other: Center
    users: dict[str, User] = field(default_factory=dict)
    subcenter: Center | None = None
    villages: list[Center] = field(default_factory=list)
    password_hash: str = field(default="", repr=False)
    windows: dict[int, Window] = field(default_factory=dict)
    departments: dict[str, Department] = field(default_factory=dict)
    matters: list[Matter] = field(default_factory=list)


# Steps of later modules: each adds its demo records to the context's centres.
DEMO_STEPS: list[Callable[[DemoContext], None]] = []

DEPARTMENTS = (  # name, contact, phone, windows it stands behind
    ("县人力资源和社会保障局", "周明", "0737-4211001", (4,)),
    ("县民政局", "吴芳", "0737-4211002", (2, 5)),
    ("县卫生健康局", "郑丽", "0737-4211003", (3,)),
    ("县自然资源局", "冯涛", "0737-4211004", (6,)),
    ("县农业农村局", "陈刚", "0737-4211005", (7,)),
    ("县应急管理局", "褚亮", "0737-4211006", (8,)),
    ("县退役军人事务局", "卫东", "0737-4211007", (1,)),
    ("县残疾人联合会", "蒋红", "0737-4211008", (5,)),
)

STAFF = (  # username, name, roles, window (A post), dispatching department
    ("clerk1", "刘晓燕", (CLERK,), 1, "县信访局"),
    ("clerk2", "陈志强", (CLERK,), 2, "县财政局"),
    ("clerk3", "杨丽娟", (CLERK,), 3, "县卫生健康局"),
    ("clerk4", "黄海涛", (CLERK,), 4, "县人力资源和社会保障局"),
    ("clerk5", "赵敏", (CLERK,), 5, "县民政局"),
    ("clerk6", "周建华", (CLERK,), 6, "县自然资源局"),
    ("clerk7", "吴桂英", (CLERK,), 7, "县农业农村局"),
    ("clerk8", "徐立新", (CLERK,), 8, "县应急管理局"),
    ("clerk9", "孙雅琴", (CLERK,), 9, "镇党政办"),
    ("clerk10", "马俊峰", (CLERK,), None, "镇党政办"),
    ("agent", "朱春梅", (AGENT,), None, "镇便民服务中心"),
    ("inspector", "胡国平", (INSPECTOR,), None, "镇纪委"),
    ("deputy", "郭文斌", (DEPUTY,), None, "镇人民政府"),
    ("director", "王建国", (DIRECTOR,), None, "镇人民政府"),
    ("leader", "林振华", (LEADER,), None, "镇人民政府"),
    ("admin", "何晓东", (ADMIN,), None, "镇党政办"),
    ("clerk11", "罗秀兰", (CLERK,), None, "县人力资源和社会保障局"),
    ("clerk12", "梁永刚", (CLERK,), None, "县民政局"),
    ("clerk13", "宋佳怡", (CLERK, AGENT), None, "镇便民服务中心"),
    ("clerk14", "谢光明", (CLERK,), None, "县农业农村局"),
)

FREE = ("不收费", "")
PROCEDURES = {
    "immediate": "1. 申请人到窗口提交材料；\n2. 窗口工作人员当场审核；\n3. 材料齐全、符合条件的当场办结。",
    "promised": "1. 申请人到窗口提交材料，窗口出具收件回执；\n2. 材料齐全的当日受理，不齐全的一次性告知需补正的材料；\n"
                "3. 当日或次个工作日移交职能部门审核；\n4. 承诺时限内办结，通知申请人领取结果。",
    "joint": "1. 牵头窗口统一收件；\n2. 各联办窗口按分工同步办理；\n3. 牵头窗口汇总结果，统一送达。",
    "linked": "1. 窗口受理并初审；\n2. 上报县级主管部门审批；\n3. 跟踪办理进度，结果返回后通知申请人。",
}
# window, code, name, business line, kind, mode, statutory days, promised days, basis, conditions, materials
MATTERS = (
    (4, "0401", "城乡居民基本养老保险参保登记", "社会保障", "immediate", "direct", 5, 1, "《城乡居民基本养老保险经办规程》",
     "年满16周岁（不含在校学生）、未参加职工基本养老保险的本镇户籍居民。",
     (("居民身份证", "both", 1), ("户口簿", "copy", 1), ("城乡居民基本养老保险参保登记表", "original", 1))),
    (4, "0402", "城乡居民基本养老保险待遇领取申请", "社会保障", "promised", "promised", 20, 5, "《城乡居民基本养老保险经办规程》",
     "年满60周岁、累计缴费满15年且未领取国家规定的基本养老保障待遇。",
     (("居民身份证", "both", 1), ("户口簿", "copy", 1), ("本人银行卡或存折", "copy", 1), ("待遇领取申请表", "original", 1))),
    (4, "0403", "城乡居民医疗保险参保缴费登记", "社会保障", "immediate", "direct", 3, 1, "《中华人民共和国社会保险法》",
     "未参加职工基本医疗保险的城乡居民。", (("居民身份证", "copy", 1), ("户口簿", "copy", 1))),
    (4, "0404", "失业登记", "社会保障", "immediate", "direct", 5, 1, "《就业服务与就业管理规定》",
     "法定劳动年龄内、有劳动能力和就业要求、处于无业状态的本镇常住人员。",
     (("居民身份证", "both", 1), ("解除或终止劳动关系证明", "copy", 1))),
    (4, "0405", "就业困难人员认定", "社会保障", "promised", "promised", 15, 5, "《就业服务与就业管理规定》",
     "已办理失业登记且符合就业困难人员条件。",
     (("居民身份证", "copy", 1), ("就业创业证", "original", 1), ("困难情况证明材料", "copy", 1))),
    (5, "0501", "最低生活保障申请", "民政救助", "promised", "joint", 30, 12, "《社会救助暂行办法》",
     "共同生活的家庭成员人均收入低于当地最低生活保障标准，且财产状况符合规定。",
     (("居民身份证", "copy", 1), ("户口簿", "copy", 1), ("家庭收入及财产申报表", "original", 1),
      ("家庭经济状况核对授权书", "original", 1), ("医疗或残疾等证明", "copy", 1))),
    (5, "0502", "特困人员救助供养申请", "民政救助", "promised", "joint", 30, 12, "《社会救助暂行办法》",
     "无劳动能力、无生活来源、无法定赡养抚养扶养义务人或其义务人无履行能力的老年人、残疾人和未成年人。",
     (("居民身份证", "copy", 1), ("户口簿", "copy", 1), ("特困人员救助供养申请书", "original", 1))),
    (5, "0503", "临时救助申请", "民政救助", "promised", "promised", 15, 5, "《社会救助暂行办法》",
     "因火灾、交通事故等意外事件或家庭成员突发重大疾病，导致基本生活暂时出现严重困难。",
     (("居民身份证", "copy", 1), ("临时救助申请书", "original", 1), ("困难情况证明", "copy", 1))),
    (5, "0504", "高龄津贴申领", "民政救助", "promised", "promised", 20, 8, "省高龄津贴发放管理办法",
     "本镇户籍、年满80周岁的老年人。", (("居民身份证", "copy", 1), ("户口簿", "copy", 1), ("银行卡或存折", "copy", 1))),
    (5, "0505", "困难残疾人生活补贴申请", "残疾人服务", "promised", "promised", 20, 8, "《国务院关于全面建立困难残疾人生活补贴和重度残疾人护理补贴制度的意见》",
     "持有第二代残疾人证且属于低保家庭的残疾人。",
     (("居民身份证", "copy", 1), ("残疾人证", "copy", 1), ("低保证明", "copy", 1), ("补贴申请表", "original", 1))),
    (5, "0506", "重度残疾人护理补贴申请", "残疾人服务", "promised", "promised", 20, 8, "《国务院关于全面建立困难残疾人生活补贴和重度残疾人护理补贴制度的意见》",
     "残疾等级为一级、二级且需长期照护的重度残疾人。",
     (("居民身份证", "copy", 1), ("残疾人证", "copy", 1), ("补贴申请表", "original", 1))),
    (5, "0507", "残疾人证申领（初审）", "残疾人服务", "promised", "linked", 30, 10, "《中华人民共和国残疾人证管理办法》",
     "符合残疾标准的本镇户籍居民。", (("居民身份证", "copy", 1), ("户口簿", "copy", 1), ("近期免冠照片", "original", 2))),
    (2, "0201", "耕地地力保护补贴信息核实", "财政惠民", "promised", "promised", 15, 5, "《财政部 农业农村部关于全面推开农业“三项补贴”改革工作的通知》",
     "拥有耕地承包权且实际种植的农户。", (("居民身份证", "copy", 1), ("土地承包经营权证", "copy", 1), ("一卡通账户", "copy", 1))),
    (2, "0202", "惠民惠农财政补贴“一卡通”信息变更", "财政惠民", "immediate", "direct", 5, 1, "省惠民惠农财政补贴资金“一卡通”管理办法",
     "已在本镇开立补贴资金账户的补贴对象。", (("居民身份证", "both", 1), ("新开立银行账户信息", "copy", 1))),
    (3, "0301", "生育登记", "计生卫健", "immediate", "direct", 3, 1, "《中华人民共和国人口与计划生育法》",
     "本镇户籍或常住的夫妻。", (("夫妻双方居民身份证", "copy", 1), ("结婚证", "copy", 1))),
    (3, "0302", "计划生育家庭特别扶助金申请", "计生卫健", "promised", "linked", 30, 10, "《全国农村部分计划生育家庭奖励扶助和特别扶助制度管理规范》",
     "独生子女伤残或死亡、未再生育或收养子女的夫妻，女方年满49周岁。",
     (("居民身份证", "copy", 1), ("户口簿", "copy", 1), ("独生子女证明材料", "copy", 1), ("子女伤残或死亡证明", "copy", 1))),
    (3, "0303", "农村部分计划生育家庭奖励扶助申请", "计生卫健", "promised", "linked", 30, 10, "《全国农村部分计划生育家庭奖励扶助和特别扶助制度管理规范》",
     "农业户口、只有一个子女或两个女孩、年满60周岁的夫妻。",
     (("居民身份证", "copy", 1), ("户口簿", "copy", 1), ("婚育情况证明", "original", 1))),
    (3, "0304", "出生医学证明信息核对", "计生卫健", "immediate", "direct", 3, 1, "《中华人民共和国母婴保健法》",
     "本镇出生、需核对出生医学证明信息的新生儿家庭。", (("出生医学证明", "both", 1), ("父母居民身份证", "copy", 1))),
    (6, "0601", "农村村民宅基地和建房（规划许可）申请", "村镇建设", "promised", "joint", 20, 8, "《中华人民共和国土地管理法》",
     "本村集体经济组织成员，符合一户一宅条件并已取得村民会议同意。",
     (("农村宅基地和建房（规划许可）申请表", "original", 1), ("居民身份证", "copy", 1), ("户口簿", "copy", 1),
      ("村民小组会议记录", "original", 1), ("建房设计图或通用图", "original", 1))),
    (6, "0602", "乡村建设规划许可证核发", "村镇建设", "promised", "linked", 20, 8, "《中华人民共和国城乡规划法》",
     "在乡、村庄规划区内进行乡镇企业、乡村公共设施和公益事业建设。",
     (("建设工程规划许可申请表", "original", 1), ("土地权属证明", "copy", 1), ("建设工程设计方案", "original", 1))),
    (6, "0603", "农村危房改造申请", "村镇建设", "promised", "promised", 30, 12, "《农村危房改造补助资金管理办法》",
     "低保户、分散供养特困人员、低收入家庭等重点对象的危险住房。",
     (("居民身份证", "copy", 1), ("户口簿", "copy", 1), ("房屋危险性鉴定结果", "copy", 1), ("改造申请书", "original", 1))),
    (7, "0701", "农机购置补贴申请", "农机补贴", "promised", "linked", 20, 8, "《农业机械购置与应用补贴实施指导意见》",
     "从事农业生产的个人和农业生产经营组织购置列入补贴范围的机具。",
     (("居民身份证", "copy", 1), ("购机发票", "copy", 1), ("机具铭牌照片", "original", 1), ("补贴申请表", "original", 1))),
    (7, "0702", "拖拉机和联合收割机登记初审", "农机补贴", "promised", "linked", 10, 4, "《拖拉机和联合收割机登记规定》",
     "所有人为本镇居民或组织的拖拉机、联合收割机。",
     (("机动车所有人身份证明", "copy", 1), ("来历证明", "original", 1), ("出厂合格证", "original", 1))),
    (7, "0703", "土地承包经营权流转合同备案", "农业农村", "promised", "promised", 10, 4, "《农村土地经营权流转管理办法》",
     "依法流转土地经营权并签订书面合同的双方。",
     (("流转合同", "original", 2), ("双方居民身份证", "copy", 1), ("承包经营权证", "copy", 1))),
    (7, "0704", "农业生产救灾资金申请", "农业农村", "promised", "promised", 20, 8, "《农业生产防灾救灾资金管理办法》",
     "因自然灾害造成农作物受灾的农户。", (("居民身份证", "copy", 1), ("受灾情况登记表", "original", 1))),
    (8, "0801", "烟花爆竹经营（零售）许可初审", "安全生产", "promised", "linked", 20, 8, "《烟花爆竹安全管理条例》",
     "具备安全条件的零售经营场所。",
     (("零售经营许可申请书", "original", 1), ("营业执照", "copy", 1), ("经营场所安全条件证明", "copy", 1), ("负责人安全培训证明", "copy", 1))),
    (8, "0802", "生产安全事故隐患举报受理", "安全生产", "promised", "promised", 15, 5, "《安全生产事故隐患排查治理暂行规定》",
     "发现生产经营单位存在事故隐患的任何单位和个人。", (("举报材料", "original", 1), ("隐患现场照片等证明材料", "copy", 1))),
    (1, "0101", "信访事项受理登记", "信访维稳", "promised", "promised", 15, 5, "《信访工作条例》",
     "依法反映情况、提出建议意见或投诉请求的群众。", (("信访材料", "original", 1), ("居民身份证", "copy", 1))),
    (1, "0102", "退役军人优待证申领", "退役军人", "promised", "linked", 20, 8, "《中华人民共和国退役军人保障法》",
     "户籍在本镇的退役军人。", (("居民身份证", "copy", 1), ("退役证件", "copy", 1), ("近期免冠照片", "original", 1))),
    (1, "0103", "优抚对象定期抚恤补助申请", "退役军人", "promised", "linked", 30, 12, "《军人抚恤优待条例》",
     "符合条件的残疾军人、烈士遗属、在乡老复员军人等优抚对象。",
     (("居民身份证", "copy", 1), ("户口簿", "copy", 1), ("优抚对象证件", "copy", 1), ("申请表", "original", 1))),
    (1, "0104", "矛盾纠纷调解申请", "信访维稳", "promised", "promised", 30, 12, "《中华人民共和国人民调解法》",
     "民间纠纷当事人自愿申请调解。", (("调解申请书", "original", 1), ("当事人身份证明", "copy", 1), ("相关证据材料", "copy", 1))),
    (9, "0901", "居住证申领（受理）", "综合咨询", "promised", "linked", 15, 5, "《居住证暂行条例》",
     "离开常住户口所在地在本镇居住半年以上且有合法稳定就业、住所或连续就读。",
     (("居民身份证", "copy", 1), ("居住证明", "original", 1), ("近期免冠照片", "original", 1))),
    (9, "0902", "老年人优待证办理", "综合咨询", "immediate", "direct", 3, 1, "《中华人民共和国老年人权益保障法》",
     "年满60周岁的本镇户籍老年人。", (("居民身份证", "copy", 1), ("近期免冠照片", "original", 1))),
    (9, "0903", "个人独资企业设立登记（代办）", "综合咨询", "promised", "linked", 15, 3, "《中华人民共和国个人独资企业法》",
     "投资人为一个自然人、有合法企业名称和固定生产经营场所。",
     (("设立登记申请书", "original", 1), ("投资人身份证明", "copy", 1), ("经营场所使用证明", "copy", 1))),
    (9, "0904", "村（社区）开具居住证明", "综合咨询", "immediate", "direct", 3, 1, "本镇便民服务事项清单",
     "在本镇实际居住的居民。", (("居民身份证", "both", 1), ("户口簿或房屋租赁合同", "copy", 1))),
    (9, "0905", "政策咨询与政务服务指引", "综合咨询", "immediate", "direct", 1, 0, "本镇便民服务事项清单",
     "所有来中心咨询的群众。", ()),
    (2, "0203", "农村集体经济组织成员身份确认备案", "财政惠民", "promised", "promised", 20, 8, "省农村集体经济组织成员身份确认指导意见",
     "经集体经济组织成员大会确认身份的人员。", (("确认决议", "copy", 1), ("户口簿", "copy", 1))),
    (3, "0305", "0—6岁儿童残疾筛查救助申请", "计生卫健", "promised", "linked", 30, 12, "《残疾预防和残疾人康复条例》",
     "经筛查确诊需康复救助的本镇户籍儿童。", (("儿童户口簿", "copy", 1), ("医院诊断证明", "copy", 1), ("救助申请表", "original", 1))),
    (6, "0604", "临时占用农村道路审批（初审）", "村镇建设", "promised", "linked", 10, 5, "《农村公路条例》",
     "因施工等需要临时占用农村公路。", (("占道申请书", "original", 1), ("施工方案", "copy", 1))),
    (8, "0803", "小型生产经营单位安全生产承诺备案", "安全生产", "immediate", "direct", 5, 1, "《中华人民共和国安全生产法》",
     "本镇辖区内的小型生产经营单位。", (("安全生产承诺书", "original", 1), ("营业执照", "copy", 1))),
    (4, "0406", "灵活就业人员社会保险补贴申请", "社会保障", "promised", "promised", 20, 8, "《就业补助资金管理办法》",
     "就业困难人员灵活就业后缴纳社会保险费。", (("居民身份证", "copy", 1), ("灵活就业登记材料", "copy", 1), ("社保缴费凭证", "copy", 1))),
)


def _user(ctx: DemoContext, center: Center, username: str, name: str, roles, dept: str = "", phone_seq: int = 0) -> User:
    user = User(username=username, name=name, center_id=center.id, dispatching_department=dept,
                phone=f"1{'358'[phone_seq % 3]}{(phone_seq * 7919) % 10**9:09d}", password_hash="")
    # One scrypt hash shared by every demo login (the password is printed anyway): hashing each of
    # the 25 users separately took ~2 s of the build.
    if ctx.password_hash:
        user.password_hash, user.session_epoch = ctx.password_hash, 1
    else:
        user.set_password(DEMO_PASSWORD)
        ctx.password_hash = user.password_hash
    for role in roles:
        user.grants.append(RoleGrant(center_id=center.id, role=role))
    db.session.add(user)
    ctx.users[username] = user
    return user


CODE_PREFIX = {"chengguan": "CG", "shiqiao": "SQ"}


def _faq(name: str, kind: str, statutory: int, promised: int) -> str:
    if kind == "immediate":
        when = "材料齐全、符合条件的当场办结。" if promised == 0 else f"材料齐全的当场或{promised}个工作日内办结。"
    else:
        when = f"法定时限{statutory}个工作日，本中心承诺{promised}个工作日内办结，自受理当日起算。"
    return (f"问：办理{name}要多长时间？\n答：{when}\n"
            "问：材料不齐怎么办？\n答：窗口一次性告知需补正的全部材料，补齐后从补正之日起计算时限。\n"
            "问：本人行动不便能否代办？\n答：可以，请联系中心代办员，或凭委托书由亲属代为办理。")


def _matter(center: Center, window: Window | None, department: Department | None, row) -> Matter:
    _no, code, name, line, kind, mode, statutory, promised, basis, conditions, materials = row
    prefix = CODE_PREFIX.get(center.code, center.code[:2].upper())
    matter = Matter(center=center, code=f"{prefix}-{code}", name=name, window=window,
                    department=department, business_line=line, kind=kind, handling_mode=mode,
                    statutory_days=statutory, promised_days=promised, basis=basis, conditions=conditions,
                    procedure=PROCEDURES["immediate" if kind == "immediate" else mode if mode in PROCEDURES else "promised"],
                    fee=FREE[0], fee_basis=FREE[1], contact_phone=center.phone, complaint_phone=center.complaint_phone,
                    faq=_faq(name, kind, statutory, promised))
    for seq, (mname, form, copies) in enumerate(materials, 1):
        matter.materials.append(MatterMaterial(seq=seq, name=mname, form=form, copies=copies))
    db.session.add(matter)
    return matter


def build_demo() -> DemoContext:
    county = Center(name="示范县政务服务中心", code="county", kind="county", address="示范县人民路88号",
                    phone="0737-4200000", complaint_phone="0737-12345")
    db.session.add(county)
    db.session.flush()
    township = Center(name="城关镇便民服务中心", code="chengguan", kind="township", parent_id=county.id,
                      address="示范县城关镇建设路16号", phone="0737-4216000", complaint_phone="0737-4216012")
    other = Center(name="石桥镇便民服务中心", code="shiqiao", kind="township", parent_id=county.id,
                   address="示范县石桥镇正街3号", phone="0737-4388000", complaint_phone="0737-4388012")
    db.session.add_all([township, other])
    db.session.flush()
    subcenter = Center(name="城关镇东城分中心", code="chengguan-east", kind="subcenter", parent_id=township.id,
                       address="示范县城关镇东城社区文化路9号", phone="0737-4216100", complaint_phone="0737-4216012")
    villages = [
        Center(name="城关镇柳树村便民服务点", code="liushu", kind="village", parent_id=township.id,
               address="城关镇柳树村村民委员会", phone="0737-4216201", complaint_phone="0737-4216012"),
        Center(name="城关镇桃花村便民服务点", code="taohua", kind="village", parent_id=township.id,
               address="城关镇桃花村村民委员会", phone="0737-4216202", complaint_phone="0737-4216012"),
    ]
    db.session.add_all([subcenter, *villages])
    ctx = DemoContext(county=county, township=township, other=other, subcenter=subcenter, villages=villages)

    for number, name in enumerate(DEFAULT_WINDOWS, 1):
        ctx.windows[number] = Window(center=township, number=number, name=name)
    db.session.add_all(ctx.windows.values())
    for name, contact, phone, window_numbers in DEPARTMENTS:
        dept = Department(center=township, name=name, contact=contact, phone=phone, address="示范县行政中心")
        ctx.departments[name] = dept
        db.session.add(dept)
        for number in window_numbers:
            ctx.windows[number].department = dept
    db.session.flush()

    for seq, (username, name, roles, _window, dept) in enumerate(STAFF, 1):
        _user(ctx, township, username, name, roles, dept, seq)
    _user(ctx, county, "county", "邓志远", (COUNTY,), "县政务服务中心", 40)
    _user(ctx, county, "county_admin", "韩立", (ADMIN,), "县政务服务中心", 41)
    db.session.flush()

    # A/B posts: the window's clerk holds A, the next window's clerk covers as B [000 AB岗].
    clerks_by_window = {w: ctx.users[u] for u, _n, _r, w, _d in STAFF if w}
    for number, window in ctx.windows.items():
        backup = clerks_by_window[number % len(clerks_by_window) + 1]
        db.session.add(Post(center=township, name=f"{window.name}窗口受理岗", window=window,
                            a_holder=clerks_by_window[number], b_holder=backup,
                            duties=f"负责{window.name}类事项的咨询、受理、登记和结果送达。"))

    by_window_dept = {n: w.department for n, w in ctx.windows.items()}
    for row in MATTERS:
        ctx.matters.append(_matter(township, ctx.windows[row[0]], by_window_dept.get(row[0]), row))

    # A second township, so isolation and the county's view can be seen.
    other_windows = [Window(center=other, number=n, name=name) for n, name in ((1, "综合受理"), (2, "民政救助"), (3, "劳动保障"))]
    db.session.add_all(other_windows)
    for seq, (username, name, roles) in enumerate((("sq_clerk", "龙小梅", (CLERK,)), ("sq_clerk2", "彭运来", (CLERK,)),
                                                   ("sq_director", "曾国庆", (DIRECTOR,))), 50):
        _user(ctx, other, username, name, roles, "石桥镇人民政府", seq)
    db.session.flush()
    sq_clerks = (ctx.users["sq_clerk"], ctx.users["sq_clerk2"])
    for i, window in enumerate(other_windows):
        db.session.add(Post(center=other, name=f"{window.name}窗口受理岗", window=window, a_holder=sq_clerks[i % 2],
                            b_holder=sq_clerks[(i + 1) % 2], duties=f"负责{window.name}类事项的咨询、受理和送达。"))
    for row in MATTERS[:5]:
        _matter(other, other_windows[2], None, row)
    db.session.flush()

    for step in DEMO_STEPS:
        step(ctx)
    db.session.flush()
    return ctx


# The order logins are listed in: the county's administrator first (the only one who enters a year's
# holiday notice), then who decides, then who works the counter.
LOGIN_ORDER = (ADMIN, COUNTY, DIRECTOR, DEPUTY, LEADER, INSPECTOR, AGENT, CLERK)


def demo_logins() -> list[tuple[str, str]]:
    """(username, what it is) for every account in the database, county administrator first.

    Called right after the demo is built, which happens only in an empty database: every account is a
    demo account (all with DEMO_PASSWORD)."""
    from sqlalchemy import select

    from app.access import ROLE_TITLES
    users = db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.id)).all()

    def rank(user):
        roles = {g.role for g in user.grants}
        first = min((LOGIN_ORDER.index(r) for r in roles if r in LOGIN_ORDER), default=len(LOGIN_ORDER))
        return (user.center.kind != "county", user.center.kind != "township", user.center_id, first, user.id)

    out = []
    for user in sorted(users, key=rank):
        roles = sorted({g.role for g in user.grants}, key=lambda r: LOGIN_ORDER.index(r) if r in LOGIN_ORDER else 99)
        titles = "、".join(str(ROLE_TITLES.get(r, r)) for r in roles)
        note = "；录入每年节假日安排" if user.center.kind == "county" and ADMIN in roles else ""
        out.append((user.username, f"{titles} {user.name}（{user.center.name}{note}）"))
    return out


APPLICANTS = ("张国强", "李秀英", "王德明", "刘桂兰", "陈小军", "杨春花", "赵志刚", "黄玉梅", "周大勇", "吴淑珍",
              "徐建新", "孙丽萍", "马福全", "朱小红", "胡永生", "郭秀云", "何立平", "高翠兰", "林国栋", "罗美华",
              "梁振东", "宋玉兰", "郑海波", "谢春梅", "韩德胜", "唐小燕", "冯长青", "于桂芝", "董建军", "萧红霞")


def _id_number(i: int) -> str:
    """A well-formed fictional resident ID number (check digit per GB 11643)."""
    body = f"430923{1950 + i % 40}{1 + i % 12:02d}{1 + i % 28:02d}{100 + i:03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11]


def demo_cases(ctx: DemoContext) -> None:
    """About forty cases of every kind and state around today: some overdue, some due on the next
    working day, two extensions, a joint case, one waiting for its applicant, handovers."""
    from app.cases import (late_reason_on_finish, missing_materials, start_clock, sweep_department_legs,
                           sweep_handovers, sweep_overdue, sweep_warnings)
    from app.timeutil import today
    from app.workdays import add_working_days, seed_from_package
    from models.case import CaseExtension, CaseHandover, CaseJointWindow, CaseMaterial, ServiceCase
    from printouts import next_number

    seed_from_package()
    day = today()
    clerks = [ctx.users[f"clerk{n}"] for n in range(1, 10)]
    plan = (  # working days before today the case came in, state it is in now
        (12, "delivered"), (11, "delivered"), (10, "completed"), (9, "accepted"), (8, "accepted"),
        (7, "accepted"), (6, "accepted"), (5, "accepted"), (4, "accepted"), (3, "accepted"), (2, "accepted"),
        (1, "accepted"), (0, "accepted"), (0, "registered"), (0, "registered"), (1, "awaiting_supplement"),
        (2, "awaiting_supplement"), (3, "refused"), (0, "answered"), (1, "answered"), (2, "transferred"),
        (4, "reported"), (6, "completed"), (0, "completed"), (1, "delivered"), (5, "delivered"), (3, "accepted"),
        (2, "accepted"), (8, "delivered"), (1, "accepted"), (4, "waiting_applicant"), (2, "joint"))
    promised = [m for m in ctx.matters if m.kind == "promised"]
    immediate = [m for m in ctx.matters if m.kind == "immediate"]
    made: list[ServiceCase] = []

    def new_case(i: int, matter, intake, state: str, kind: str) -> ServiceCase:
        clerk = clerks[(matter.window.number - 1) % len(clerks)] if matter.window else clerks[0]
        case = ServiceCase(center=ctx.township, matter=matter, window=matter.window, state=state, kind=kind,
                           applicant_name=APPLICANTS[i % len(APPLICANTS)],
                           applicant_phone=f"139{(i * 7907) % 10**8:08d}", applicant_id_no=_id_number(i),
                           channel=("window", "window", "online", "agency", "village", "appointment")[i % 6],
                           intake_date=intake, responsible_id=clerk.id, created_by_id=clerk.id,
                           receipt_no=next_number(ctx.township.id, "case_receipt", intake.year))
        for seq, m in enumerate(matter.materials, 1):
            brought = not (state == "awaiting_supplement" and seq == len(matter.materials))
            case.materials.append(CaseMaterial(seq=seq, name=m.name, form=m.form, copies=m.copies, received=brought))
        made.append(case)
        return case

    for i, (back, state) in enumerate(plan):
        pool = immediate if state == "answered" or (state == "completed" and back == 0) else promised
        matter = pool[i * 3 % len(pool)]
        intake = add_working_days(day, -back)
        kind = "consult" if state == "answered" else "joint" if state == "joint" else (
            "immediate" if matter.kind == "immediate" else "promised")
        state = "accepted" if state == "joint" else state
        case = new_case(i, matter, intake, state, kind)
        if state == "awaiting_supplement":
            case.missing_materials = "\n".join(missing_materials(matter, case.materials))
        elif state == "answered":
            case.answer = "已告知办理条件、所需材料及办理窗口。"
        elif state == "refused":
            case.refusal_reason, case.remedies = "申请人不符合本事项的申请条件。", "如不服，可自收到本通知之日起60日内向示范县人民政府申请行政复议，或6个月内向示范县人民法院提起行政诉讼。"
        elif state == "transferred":
            case.transfer_office, case.transfer_phone = "示范县不动产登记中心", "0737-4211024"
        elif state in ("accepted", "reported", "completed", "delivered", "waiting_applicant"):
            start_clock(case, intake)
            if state == "reported":
                case.higher_authority = "示范县民政局"
            if state == "waiting_applicant":
                case.paused_on = add_working_days(day, -1)
            if kind == "joint":
                others = [w for n, w in sorted(ctx.windows.items()) if w.id != matter.window_id][:2]
                case.joint = [CaseJointWindow(seq=n, window=w, task=task) for n, (w, task) in
                              enumerate(zip(others, ("核实家庭成员就业情况", "核实低保及救助享受情况")), 1)]
            if state in ("completed", "delivered"):
                case.completed_on = min(day, case.due_date)
                case.result = "准予办理，结果已出具。"
                late_reason_on_finish(case, case.completed_on, "completed_late")
            if state == "delivered":
                case.delivery_method, case.delivered_on = "pickup", case.completed_on
        db.session.add(case)
        db.session.flush()
        left_undone = i == 26  # one case nobody handed over to its department: flagged below
        if state in ("accepted", "completed", "delivered") and matter.department_id and back >= 1 and not left_undone:
            db.session.add(CaseHandover(center=ctx.township, case_id=case.id, department_id=matter.department_id,
                                        handed_on=add_working_days(intake, 1) if back > 1 else intake,
                                        state="handed" if state == "accepted" else "returned",
                                        returned_on=case.completed_on if state != "accepted" else None,
                                        received_by="部门收件人", created_by_id=case.responsible_id))

    # Two cases past their promise and two due on the next working day, whatever the matters' limits.
    for j, due in enumerate((add_working_days(day, -2), add_working_days(day, -1), add_working_days(day, 1),
                             add_working_days(day, 1))):
        matter = promised[(j * 5 + 1) % len(promised)]
        intake = add_working_days(due, -(max(matter.promised_days, 1) - 1))
        case = new_case(len(plan) + j, matter, intake, "accepted", "promised")
        start_clock(case, intake)
        db.session.add(case)

    # Extensions: one approved before the deadline, one awaiting the director.
    db.session.flush()
    running = [c for c in made if c.state == "accepted" and c.due_date and c.due_date > add_working_days(day, 1)
               and c.clock_start < add_working_days(day, -1) and c.kind == "promised"]
    for case, approved in zip(running[-2:], (True, False)):
        asked = add_working_days(day, -1) if approved else day
        ext = CaseExtension(center=ctx.township, case_id=case.id, requested_on=asked,
                            reason="需现场勘察并征求村委会意见，无法在承诺时限内办结。",
                            new_due=add_working_days(case.due_date, 5), applicant_notified_on=asked,
                            notice_method="电话告知", created_by_id=case.responsible_id,
                            state="approved" if approved else "requested",
                            head_opinion="情况属实，同意延期。" if approved else "")
        if approved:
            case.extended_due = ext.new_due
        db.session.add(ext)
    db.session.flush()
    sweep_overdue(day)
    sweep_warnings(day)
    sweep_handovers(day)
    sweep_department_legs(day)
    for case in made:  # the sweeps are set-based UPDATEs: reload the flags they set
        db.session.expire(case, ["overdue", "overdue_reason", "warned", "handover_late", "version"])


DEMO_STEPS.append(demo_cases)


def demo_leave(ctx: DemoContext) -> None:
    """Leave slips around today: one approved (its B holder covers the post today), one waiting for the
    director after the deputy's opinion, one waiting for the deputy."""
    from app.leave import LEAVE_SLIPS
    from app.records import operations
    from app.timeutil import today
    from app.workdays import add_working_days, next_working_day
    day = next_working_day(today())
    u = ctx.users
    plan = (("clerk3", day, day, "sick", "发烧就医", ("deputy_approve",)),
            ("clerk5", add_working_days(day, 2), add_working_days(day, 3), "personal", "孩子升学报名，需回老家两天",
             ("deputy_to_director",)),
            ("clerk7", add_working_days(day, 5), add_working_days(day, 5), "annual", "年休假", ()))
    for username, start, end, kind, reason, steps in plan:
        clerk = u[username]
        slip = operations.create(LEAVE_SLIPS, clerk, {
            "staff_id": clerk.id, "kind": kind, "start_on": start, "end_on": end, "reason": reason,
            "phone": clerk.phone or "13900000000"}, center_id=ctx.township.id)
        operations.transition(LEAVE_SLIPS, slip, "submit", clerk)
        for name in steps:
            operations.transition(LEAVE_SLIPS, slip, name, u["deputy"], comment="情况属实，同意。")


DEMO_STEPS.append(demo_leave)


def demo_queue(ctx: DemoContext) -> None:
    """A morning's queue so far: numbers taken since opening, the first ones served, some called now."""
    from datetime import datetime, timedelta

    from app.queue import call_next, take_ticket
    from app.timeutil import now
    # The hour since opening at 8:30; loaded before 9:30 the same hour ends now (squeezed after midnight), so
    # no number is taken or called later than the present and the display's latest call is a real one.
    moment = now()
    midnight = datetime.combine(moment.date(), datetime.min.time())
    span = timedelta(minutes=60)
    start = min(midnight.replace(hour=8, minute=30), max(midnight, moment - span))
    scale = min(1.0, (moment - start) / span)

    def at(minutes: int):
        return start + timedelta(minutes=minutes) * scale

    windows = list(ctx.windows.values())
    clerks = {n: ctx.users[f"clerk{n}"] for n in range(1, 10)}
    for i in range(14):
        take_ticket(ctx.township.id, window_id=windows[i % 4].id, priority="elderly" if i == 5 else "",
                    at=at(3 * i))
    for i, window in enumerate(windows[:4] * 2):
        call_next(window, clerks[window.number], at(10 + 7 * i))


DEMO_STEPS.append(demo_queue)
