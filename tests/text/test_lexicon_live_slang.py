"""Live-room slang of betting tipsters, gift battles and sex work: each family is caught from
parts combined here (so a rule that knew only one wording fails), the everyday words that share
its characters are not evidence, and the pieces that are also everyday talk (a parlay of skewers,
cash settlement, a rescue plea, a price per time) count only beside another piece of evidence."""

from __future__ import annotations

import pytest
from text_slang import OPENS, family, score

from moderation.text.matcher import KeywordMatcher

CAUGHT: dict[str, tuple[str, list[str]]] = {
    # gambling: tipster slang, two pieces together
    "parlay_and_follow": ("gambling", family([["二串一", "4串1"], ["稳了，", "走起，"], ["跟单", "跟投"]], "{}的上")),
    "handicap_and_all_in": ("gambling", family([["客队让一球", "亚盘水位偏高"], ["，"], ["全梭", "梭哈"]])),
    "payout_and_refusal": ("gambling", family([["出款不黑", "秒出款"], ["，"], ["从不黑单"]], "这个台子{}")),
    "slot_brand": ("gambling", family([["PG", "JDB"], ["电子"]], "{}今天放水了")),
    "betting_crowd": ("gambling", family([["菠菜", "网赌", "网度"], ["兄弟", "圈"]], "{}的都来")),
    "offshore_market": ("gambling", [*family([["西甲", "NBA"], ["外围"]], "今天{}开了"), "外围下注找我"]),
    "cash_game": (
        "gambling",
        family([["斗地主私局", "德州私局"], ["，"], ["支付宝结算", "输赢当场结"]])
        + family([["五块一局", "十元一把"], ["，现结"]], "跑得快{}"),
    ),
    "bet_right_doubles": ("gambling", ["押中就翻三倍", "押对了翻倍"]),
    "recover_with_me": ("gambling", family([["跟着我", "带你们"], ["回本", "翻本"]], "亏了的别急，{}")),
    "deposit_and_slot": ("gambling", ["slot 今晚爆分，deposit 100送100"]),
    "english_betting": ("gambling", ["copy my bet slip", "moneyline on the home team"]),
    # tipping: gift battles and paid ranks
    "gift_holders_urged": (
        "tipping_inducement",
        family([["有礼物的", "有gift的"], ["兄弟们", ""], ["赶紧刷", "快砸"]], "对面要翻了，{}"),
    ),
    "gift_turns_it": ("tipping_inducement", family([["穿云箭", "游艇"], ["一刷", "来一个"], ["直接翻盘", "就稳了"]])),
    "currency_gap": ("tipping_inducement", family([["还差三万音浪", "抖币还差五百"]], "{}，冲")),
    "rank_perk": ("tipping_inducement", family([["提督", "榜一"], ["今天", ""], ["有专属福利", "专属歌曲"]])),
    "rank_claim": ("tipping_inducement", family([["上舰", "续舰"], ["的大哥们"], ["截图找我", "进群"]])),
    "top_spot_contest": ("tipping_inducement", ["谁先拿下榜一，我唱他点的歌", "今晚谁能坐上榜一"]),
    "tip_ask_direct": ("tipping_inducement", ["帮主播打个赏吧", "打点赏呗宝宝们", "打赏一下孩子"]),
    "pk_and_rescue": (
        "tipping_inducement",
        family([["PK要输了", "PK快输了"], ["，"], ["兄弟们救救", "快打赏", "快donate"]]),
    ),
    "fan_club_push": ("tipping_inducement", ["灯牌亮起来，粉丝团加上"]),
    "gift_goal_stunt_mixed": ("tipping_inducement", ["gift subs十个我就唱", "donation到一千当场跳舞"]),
    "countdown_and_gift": ("tipping_inducement", ["倒计时二十秒，有礼物的都上"]),
    "top_title_perk": ("tipping_inducement", ["傍一大哥有独家福利"]),
    "paid_seat_vacant": ("tipping_inducement", ["提督的位置还空着", "舰长一直没人"]),
    "paid_rank_reversed": ("tipping_inducement", ["舰长续一下嘛", "贵族开一个呗"]),
    "gift_homophones_after_a_verb": ("tipping_inducement", ["大哥们砸点李物", "送个小理物呗"]),
    "gift_send_brush": ("tipping_inducement", ["不买也刷个辣条", "刷一波小电视"]),
    "gift_homophones": ("tipping_inducement", ["送个火件吧", "还差一万阴浪", "剑长专属福利", "大尚一下主播"]),
    # vulgar: sex-work menus, undressing, hook-ups, porn by another name
    "sex_slang_medium": ("vulgar", family([["色色", "瑟瑟"], ["的图", "的小说"]], "{}要不要")),
    "room_ask": ("vulgar", ["妹妹开房吗", "今晚约开房"]),
    "sex_work_menu": ("vulgar", family([["快餐", "全套"], ["三百，", ""], ["半套", "包夜"]], "{}都行")),
    "undress_order": ("vulgar", ["小姐姐把裙子脱了", "美女再脱一点", "想看姐姐光着"]),
    "local_hookup": ("vulgar", ["同城炮友找我", "同城一夜情有吗"]),
    "escort_and_hookup_group": ("vulgar", ["外围兼职今晚有", "约炮软件推荐"]),
    "porn_homophones": ("vulgar", ["皇色电影资源", "城人视频免费", "锣聊吗", "作爱视频"]),
    "video_rate": ("vulgar", ["一对一视频，二十一次", "private show按分钟收费"]),
    "sex_work_named_service": ("vulgar", ["莞式服务了解一下", "探花视频全集"]),
    "women_menu": ("vulgar", family([["人妻", "嫩模"], ["都有", "随便挑"]], "{}，价格私聊")),
    "nude_media": ("vulgar", ["裸体照片打包", "luo shen shi pin you de"]),
    "adult_show": ("vulgar", ["色情live今晚开", "成人show十点"]),
    "room_and_price": ("vulgar", ["多少钱一晚？酒店开好了", "我这儿有房，一晚上多少钱"]),
    "bath_show_with_lure": ("vulgar", ["想看姐姐洗澡的私我"]),
    "garment_emoji_and_body": ("vulgar", ["小姐姐脱👗给大家看", "美女的胸器真诱人"]),
}


@pytest.mark.parametrize(("family", "category", "text"), [(n, c, t) for n, (c, texts) in CAUGHT.items() for t in texts])
def test_live_slang_family_opens_a_verdict(matcher: KeywordMatcher, family: str, category: str, text: str) -> None:
    assert score(matcher, text, category) >= OPENS[category], (family, text, matcher.match(text))


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("羊肉串三串一起烤", "gambling"),  # skewers, no slip
        ("公司招跟单员，要求细心", "gambling"),
        ("请让一让，让一下路", "gambling"),
        ("暴雨后河道水位上涨", "gambling"),
        ("买奶茶微信结算就行", "gambling"),
        ("周末三缺一，谁来打麻将", "gambling"),  # the mahjong call for a fourth
        ("这局我坐庄，麻将三缺一", "gambling"),
        ("电子产品打折了", "gambling"),
        ("这批货是黑单，别发", "gambling"),
        ("模特外围拍摄很辛苦", "gambling"),
        ("菠菜炒鸡蛋真好吃", "gambling"),
        ("押韵押得好", "gambling"),
        ("火箭一个人就能赢", "tipping_inducement"),  # the Houston Rockets
        ("救救我的作业", "tipping_inducement"),
        ("中秋快到了赶紧送礼品", "tipping_inducement"),
        ("有礼物的盒子放门口", "tipping_inducement"),
        ("上船的乘客请排队", "tipping_inducement"),
        ("榜一这首歌真好听", "tipping_inducement"),
        ("结果聊了很久", "vulgar"),
        ("作爱心捐赠", "vulgar"),
        ("全城人口普查", "vulgar"),
        ("我去酒店开房间了", "vulgar"),
        ("网吧包夜十五块", "vulgar"),
        ("快餐二十一份", "vulgar"),
        ("宝宝把衣服脱了洗澡", "vulgar"),
        ("空调维修可以上门", "vulgar"),
        ("这是第五十一次了", "vulgar"),
        ("天气热再脱一件吧", "vulgar"),
        ("我有房有车", "vulgar"),
        ("房间开好了，明天见客户", "vulgar"),
        ("看我给狗洗澡", "vulgar"),
        ("周末看了部小电影", "vulgar"),
        ("服务员的服务真好", "vulgar"),
        ("考上探花是古代的荣耀", "vulgar"),
        ("激情live今晚燃炸", "vulgar"),
        ("上网度过了一天", "gambling"),
        ("我要买gift给妈妈", "tipping_inducement"),
        ("周末整理物品", "tipping_inducement"),
        ("送个家里物件", "tipping_inducement"),
        ("来个辣条当零食", "tipping_inducement"),
        ("世界杯外围赛开打了", "gambling"),
        ("德州扑克高手的表现结果不错", "gambling"),  # 现结 across two words
        ("德州扑克比赛里他来回穿梭了好几桌", "gambling"),
        ("把二串一起烤，外围那块也烤", "gambling"),  # a qualifying round
        ("PP电子秤很准", "gambling"),
        ("带你们翻身致富", "gambling"),
        ("吃快餐，在朋友家过夜", "vulgar"),
        ("买了快餐全套餐", "vulgar"),
        ("想看美女脱口秀", "vulgar"),
        ("我们先开房去再吃饭", "vulgar"),
        ("有礼物的上面写着名字", "tipping_inducement"),
        ("礼物一送孩子开心得跳舞", "tipping_inducement"),
        ("还差五百钻石就能买皮肤", "tipping_inducement"),
        ("上船的乘客有专属福利", "tipping_inducement"),
        ("新年倒计时十秒", "tipping_inducement"),
        ("她穿了👗真好看", "vulgar"),
    ],
)
def test_everyday_uses_are_not_evidence(matcher: KeywordMatcher, text: str, category: str) -> None:
    assert score(matcher, text, category) < 0.1, matcher.match(text)


@pytest.mark.parametrize(
    ("alone", "corroborated", "category"),
    [
        ("今晚四串一", "今晚四串一，跟单的私我", "gambling"),
        ("主队让半球", "主队让半球，我梭了", "gambling"),
        ("现金结", "德州私局，现金结", "gambling"),
        ("兄弟们救救我", "PK要输了，兄弟们救救我", "tipping_inducement"),
        ("五十一次", "上门服务，五十一次", "vulgar"),
        ("可以上门", "约吗，可以上门", "vulgar"),
        ("我这边有房", "我这边有房，一晚多少钱", "vulgar"),
        ("小电影合集", "小电影合集，加我", "vulgar"),
    ],
)
def test_ambiguous_live_slang_needs_corroboration(
    matcher: KeywordMatcher, alone: str, corroborated: str, category: str
) -> None:
    assert score(matcher, alone, category) < 0.1, matcher.match(alone)
    assert score(matcher, corroborated, category) >= OPENS[category], matcher.match(corroborated)
