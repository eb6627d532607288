"""Benign sentences (zh + en) for the precision test and the throughput benchmark.

Handwritten lines plus template combinations covering news, cooking, gaming, weather, travel and
everyday stream chatter. Nothing here should hit the gambling, vulgar or tipping lexicons; if a
common word fires, fix the lexicon (allow_context, pinyin: false, a longer term) or the matcher.
"""

from __future__ import annotations

import itertools
import random

ZH_LINES = """
今天天气不错，我们下午去公园散步吧。
以下注意事项请大家务必仔细阅读。
以下分为三个部分进行讲解。
新华社北京电，国务院常务会议今天召开，研究部署稳就业相关工作。
受冷空气影响，明天北方大部地区将有大风降温天气。
这道红烧肉的关键是先炒糖色，再小火慢炖一个小时。
菠菜焯水之后再凉拌，可以去掉草酸，口感更好。
家人们晚上好，今天我们继续玩这个地图，先去打野。
这把排位上分有点难，对面的射手太肥了。
大家记得多喝热水，最近流感高发。
周末我们一起去看电影吧，听说那部动画片很好看。
上证指数今日开盘小幅上涨，科技板块表现活跃。
美股开盘后三大股指涨跌不一。
这个楼盘开盘当天就卖出了一半的房源。
我这边网络有点卡，大家稍等一下，我重启一下路由器。
今天给大家做一道西红柿炒鸡蛋，先把鸡蛋打散。
锅里放少许油，油热后下葱姜蒜爆香。
主播今天要挑战一下最高难度，大家给点耐心。
这只猫咪每天早上六点准时叫我起床。
高铁票已经买好了，下周一出发去成都。
成都的火锅真的太好吃了，尤其是毛肚和鸭肠。
明天有雷阵雨，出门记得带伞。
气象台发布高温橙色预警，请注意防暑降温。
这局我们打得不错，下一局继续保持。
谢谢大家的关注，我们明天晚上八点见。
最近在学吉他，手指按弦还是有点疼。
这本书讲的是宋朝的历史，写得很有意思。
小朋友们要按时完成作业，早睡早起。
警方提醒市民提高防范意识，谨防电信诈骗。
本次展会吸引了来自三十多个国家的企业参展。
农业农村部表示，今年夏粮生产形势总体较好。
我们先把面粉和水揉成光滑的面团，醒二十分钟。
这款手机的续航表现比上一代提升了不少。
这个副本的boss有两个阶段，注意躲技能。
大家觉得这套装备搭配怎么样？
今天的比赛主队二比一战胜了客队。
学校下周开始期末考试，同学们加油。
这条河以前污染很严重，现在已经治理得很好了。
地铁三号线延长线预计年底通车。
今天直播先到这里，大家早点休息。
我刚才说错了，应该是往左边走。
这个问题我们下分别来看两种情况。
下面我们一下分享几个做菜的小技巧。
这款游戏的画面做得非常精致。
我觉得这个方案还需要再讨论一下。
奶奶做的饺子是世界上最好吃的。
春节期间高速公路小型客车免费通行。
医生建议每天保持三十分钟以上的运动。
这家店的拿铁咖啡味道很醇厚。
今天我们来聊聊怎么科学减肥。
记得关注天气变化，及时增减衣物。
这个关卡需要先拿到钥匙才能开门。
他投篮很准，三分球命中率很高。
下雨天路滑，开车一定要慢一点。
我们去超市买点水果和蔬菜吧。
这只小狗特别喜欢玩飞盘。
图书馆周末开放时间是上午九点到下午五点。
一下注意看屏幕右上角的小地图。
这是我第一次尝试做蛋糕，有点紧张。
欢迎新来的朋友，进来了就是一家人。
电影院的爆米花总是特别香。
今天的晚霞特别漂亮，大家看窗外。
这台电脑的散热不太好，玩游戏会发烫。
我们班上周去博物馆参观了青铜器展。
鸡翅先用料酒和生抽腌制半小时。
天气预报说周末会转晴，适合出游。
我们打一下分数，看看谁的得分最高。
这段路正在施工，请绕行。
今天的英语课学习了过去完成时。
我们公司年会准备了很多节目。
他说下次一定会准时到。
这首歌的旋律特别好听，单曲循环了一整天。
家里的绿萝长得很茂盛。
这个技能冷却时间有点长，要省着用。
这次考试我数学考了九十分。
公园里的樱花开了，很多人去拍照。
周末去爬山，山顶的风景特别好。
这个菜要大火快炒才好吃。
新赛季的平衡性调整大家怎么看？
各位观众朋友们，欢迎收看今天的新闻联播。
国家统计局发布数据显示，居民消费价格同比上涨零点三个百分点。
科研团队在量子计算领域取得重要进展。
台风登陆后强度逐渐减弱，沿海地区仍需防范。
大家好，我是今天的主播，今天教大家画水彩画。
颜料先调得淡一点，再一层一层往上叠。
我们来看一下弹幕，有朋友问这个在哪里买。
这个地方有一个隐藏的宝箱，很多人不知道。
今天做的是广式早茶里的虾饺。
晚上吃什么呢，要不点个外卖吧。
这条裙子的颜色很适合夏天。
小区门口新开了一家面包店。
孩子今天第一次自己骑自行车。
这首诗表达了作者对家乡的思念。
我们把这个数据整理成表格。
这个月的电费比上个月少了一些。
练习书法需要耐心，每天写一点。
这次旅行我们去了西安，看了兵马俑。
这个城市的夜景非常漂亮。
我先把这一波兵线清掉，再去推塔。
辅助跟紧我，我们去抓中路。
这道题的解法其实很简单。
新闻报道称，该市将新建十所中小学。
市民可以通过手机预约挂号。
我们一起加油，争取今年完成目标。
这个视频的剪辑真的很用心。
今天的分享就到这里，下次再见。
老师说这篇作文写得很有感情。
这款耳机的降噪效果很好。
今天的汤有点咸了，下次少放盐。
慢慢来，不着急，我们一步一步做。
这场雪下得好大，外面一片白茫茫。
我们明天早上七点在学校门口集合。
这只熊猫宝宝正在啃竹子，太可爱了。
公司提醒员工注意用电安全。
比赛进入加时赛，双方比分十分接近。
我家楼下的桂花开了，香得不得了。
请大家遵守交通规则，文明出行。
拒绝赌博，远离网赌，珍爱家庭。
警方打击网络赌博，抓获犯罪嫌疑人十余名。
学校开展了禁止赌博的主题班会。
家长要教育孩子理性打赏，未成年人禁止打赏。
主播提醒大家不要刷礼物，点个关注就好。
扫黄打非专项行动取得阶段性成果。
""".strip().splitlines()

EN_LINES = """
Good evening everyone, welcome back to the stream.
Today we are going to cook a simple tomato pasta.
Add a pinch of salt and let the water boil.
The weather service expects heavy rain across the coast tonight.
Temperatures will drop by ten degrees over the weekend.
The central bank kept interest rates unchanged on Thursday.
Stocks opened higher as tech shares rallied.
Let me check the alphabet soup recipe again.
I bet you can't guess what happens next.
That boss fight was really hard, it took me five tries.
Thanks for hanging out with me tonight.
Please remember to stay hydrated during the heat wave.
We are going to the museum next Saturday.
The new library opens at nine in the morning.
My cat keeps sitting on the keyboard.
The team scored two goals in the second half.
Chop the onions finely and fry them until golden.
Let the dough rest for twenty minutes before rolling it out.
This map has a hidden chest behind the waterfall.
Our tank needs to hold aggro while we deal damage.
The city council approved a new bike lane downtown.
Scientists discovered a new species of frog in the rainforest.
The concert was cancelled because of the storm.
I think the blue one looks better on you.
Can you hear me now, is the audio okay?
Let me adjust the camera a little bit.
The train to Boston leaves at half past seven.
We planted tomatoes and basil in the garden this spring.
The kids are building a sandcastle on the beach.
I need to buy milk, eggs and bread on the way home.
That was a close game, well played everyone.
The restaurant on the corner serves amazing dumplings.
The marathon route goes along the river.
Don't forget to like and follow if you enjoyed the video.
This puzzle game has really clever level design.
Snow is expected in the mountains by Friday.
The president will visit three countries next month.
Our school is hosting a science fair this week.
Mix the butter and sugar until fluffy.
Bake at one hundred eighty degrees for twenty five minutes.
We lost the last round, but we'll get them next time.
I'm going to take a short break and grab some water.
The airport was busy because of the holiday rush.
Please drive carefully, the roads are icy.
He finally finished writing his first novel.
Traffic is heavy on the highway this morning.
The dog loves chasing the ball in the park.
The farmers market opens every Sunday morning.
The company announced a new electric car model.
Let's read a few comments from the chat.
Someone asked what keyboard I'm using, it's a mechanical one.
Today's stream is all about painting landscapes with watercolor.
The museum is showing an exhibition about ancient Egypt.
Our flight was delayed by two hours.
Make sure you back up your files regularly.
The sunset tonight is absolutely beautiful.
We need a healer for the next dungeon run.
The chef added fresh herbs right before serving.
The hospital opened a new children's wing.
Voters will head to the polls in November.
The alphabet song helps kids learn their letters.
She placed the books back on the shelf.
Say no to gambling and talk to someone if you need help.
The police warned residents about online scams.
Please don't tip, just enjoy the music.
That mushroom soup was the best I have ever had.
I started learning Spanish last month.
Let's wrap up here, see you all tomorrow.
We are giving away free stickers to everyone at the event.
The playoffs start next week and tickets are selling fast.
The debate focused on healthcare and education.
A new bakery opened near the station.
The bridge will be closed for repairs until Monday.
Check the spelling of each word before you submit.
My grandma taught me how to knit.
The volcano erupted early this morning, officials said.
He is a huge fan of classic rock.
The garden looks lovely after the rain.
""".strip().splitlines()

_ZH_SUBJ = ["我", "我们", "大家", "主播", "小明", "妈妈", "老师", "同学们", "朋友们", "他", "她", "家人们"]
_ZH_TIME = ["今天", "明天", "周末", "晚上", "早上", "下午", "刚才", "最近", "下周", "昨天"]
_ZH_PRED = [
    "去超市买菜",
    "在家做红烧排骨",
    "一起打游戏",
    "去公园跑步",
    "看了一部纪录片",
    "学习做蛋糕",
    "去图书馆借书",
    "在直播间聊天",
    "去海边看日出",
    "整理房间",
    "练习钢琴",
    "画了一幅风景画",
    "去医院体检",
    "坐地铁上班",
    "参加了读书会",
    "包了很多饺子",
    "去爬山",
    "打了一场篮球",
    "复习英语单词",
    "煮了一锅鸡汤",
    "去看望爷爷奶奶",
    "在阳台种花",
    "修好了自行车",
    "去博物馆参观",
]
_ZH_TAIL = ["。", "，感觉很开心。", "，天气特别好。", "，大家觉得怎么样？", "，下次再一起。", "！"]
_ZH_NEWS = [
    "{city}今年一季度地区生产总值同比增长{n}%。",
    "{city}气象台预计明天{weather}，最高气温{n}摄氏度。",
    "{city}地铁{n}号线今天正式开通运营。",
    "{city}举办第{n}届国际美食节，吸引大量游客。",
    "{city}多所学校开展防溺水安全教育活动，覆盖学生{n}万人。",
]
_ZH_CITY = ["北京", "上海", "广州", "深圳", "成都", "杭州", "武汉", "西安", "南京", "重庆", "长沙", "青岛"]
_ZH_WEATHER = ["多云转晴", "有小雨", "阴天", "有雷阵雨", "晴到多云", "有中雪"]

_EN_SUBJ = ["I", "We", "My sister", "The team", "Our neighbor", "The kids", "Everyone", "My friend"]
_EN_PRED = [
    "went to the market",
    "cooked a big pot of soup",
    "played a few rounds online",
    "visited the museum",
    "watched a documentary",
    "cleaned the garage",
    "practiced the piano",
    "went hiking in the hills",
    "baked chocolate cookies",
    "read a mystery novel",
    "planted some flowers",
    "fixed the old bike",
    "walked the dog",
    "painted the fence",
    "learned a new song",
    "studied for the exam",
]
_EN_TIME = ["this morning", "last night", "on Sunday", "yesterday", "after work", "during the holiday"]
_EN_TAIL = [".", " and it was great.", ", which was fun.", " before dinner.", " with some friends."]
_EN_NEWS = [
    "Officials in {city} said the new park will open in {n} weeks.",
    "Forecasters expect {weather} in {city} with highs near {n} degrees.",
    "The {city} marathon drew more than {n} thousand runners this year.",
    "Schools in {city} will start the new term in {n} days.",
]
_EN_CITY = ["London", "Chicago", "Sydney", "Toronto", "Berlin", "Tokyo", "Seattle", "Madrid"]
_EN_WEATHER = ["light rain", "sunny skies", "scattered showers", "strong winds", "heavy snow"]


def benign_sentences(seed: int = 7) -> list[str]:
    """At least 2,000 distinct benign sentences, deterministic for a seed."""
    rng = random.Random(seed)
    out: list[str] = list(ZH_LINES) + list(EN_LINES)
    zh = [f"{t}{s}{p}{tail}" for s, t, p, tail in itertools.product(_ZH_SUBJ, _ZH_TIME, _ZH_PRED, _ZH_TAIL)]
    en = [f"{s} {p} {t}{tail}" for s, p, t, tail in itertools.product(_EN_SUBJ, _EN_PRED, _EN_TIME, _EN_TAIL)]
    out += rng.sample(zh, 900) + rng.sample(en, 600)
    for _ in range(300):
        out.append(
            rng.choice(_ZH_NEWS).format(
                city=rng.choice(_ZH_CITY), n=rng.randint(2, 60), weather=rng.choice(_ZH_WEATHER)
            )
        )
        out.append(
            rng.choice(_EN_NEWS).format(
                city=rng.choice(_EN_CITY), n=rng.randint(2, 60), weather=rng.choice(_EN_WEATHER)
            )
        )
    return list(dict.fromkeys(out))
