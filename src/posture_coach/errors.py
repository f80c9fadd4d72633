"""One exception tree. Every error a user can cause carries a one-line, actionable message."""

from __future__ import annotations

import string


class CoachError(Exception):
    """Base of every error the coach raises on purpose. ``str(err)`` is shown to the user.

    ``reason``: a stable code (a key of :data:`REASON_TEXTS`) that the pages and reports
    show in the reader's language; ``str(err)`` keeps the details (a path, a frame number).
    """

    exit_code: int = 1
    reason: str = "analysis_failed"

    def __init__(self, *args: object, reason: str | None = None) -> None:
        super().__init__(*args)
        if reason is not None:
            self.reason = reason


class ConfigError(CoachError):
    """A calibration, profile or settings file is invalid (names the file, table and key)."""

    exit_code = 2
    reason = "settings_invalid"


class ModelError(CoachError):
    """A model bundle is missing, unreadable, or fails its sha256 check."""

    exit_code = 3
    reason = "models_unavailable"


class SourceError(CoachError):
    """An input (video, image, folder, camera) cannot be opened or decoded."""

    exit_code = 4
    reason = "video_unreadable"


class OutputError(CoachError):
    """An output (report, analysis file, recording, profile, folder) cannot be written there."""

    exit_code = 5
    reason = "output_not_writable"


class RecordingError(CoachError):
    """A landmark recording (JSONL) is malformed or of an unknown version."""

    exit_code = 4
    reason = "recording_invalid"


#: What each failure reason means to the person who uploaded or scored a video, in both
#: languages (the pages pick one; the technical message stays beside it for support).
REASON_TEXTS: dict[str, dict[str, str]] = {
    "analysis_failed": {"zh": "分析失败。", "en": "The analysis failed."},
    "internal_error": {"zh": "分析时出现内部错误，系统会自动重试；如仍失败请联系管理员。",
                       "en": "An internal error stopped the analysis; it is retried automatically. "
                             "If it keeps failing, tell your administrator."},
    "interrupted": {"zh": "分析多次被中断（服务重启或进程退出），已停止重试。请重新上传或联系管理员。",
                    "en": "The analysis was interrupted several times (a restart or a crashed worker) "
                          "and was given up. Upload it again or tell your administrator."},
    "settings_invalid": {"zh": "设置或个人校准文件有误，请检查后重试。",
                         "en": "A settings or personal calibration file is invalid; check it and try again."},
    "models_unavailable": {"zh": "识别模型缺失或已损坏，请联系管理员。",
                           "en": "A recognition model is missing or damaged; tell your administrator."},
    "video_unreadable": {"zh": "视频无法读取：文件可能已损坏，或格式不受支持。",
                         "en": "The video cannot be read: the file may be damaged or in an unsupported format."},
    "profile_not_utf8": {"zh": "个人校准文件不是 UTF-8 编码（可能被另存为 GBK/ANSI）：请另存为 UTF-8，或重新校准。",
                         "en": "The calibration file is not UTF-8 text (saved as GBK/ANSI?): save it as UTF-8, "
                               "or calibrate again."},
    "profile_needed": {"zh": "按服装识别学员（--role-play profile）需要该学员的个人校准文件（--profile）。",
                       "en": "Finding the trainee by their clothes (--role-play profile) needs their "
                             "calibration file (--profile)."},
    "sound_only": {"zh": "这个文件只有声音，没有画面（是录音，不是录像），请上传录像文件。",
                   "en": "This file has sound only, no picture (an audio recording, not a video); "
                         "upload the video recording."},
    "not_a_video": {"zh": "这个文件不是视频，请上传 MP4、MOV、WebM 等视频文件。",
                    "en": "This file is not a video; upload an MP4, MOV, WebM or similar video file."},
    "video_truncated": {"zh": "视频在中途中断（文件不完整或已损坏），请重新导出或上传完整的视频。",
                        "en": "The video stops part-way (incomplete or damaged); "
                              "export or upload the whole video again."},
    "video_no_frames": {"zh": "视频中没有可读取的画面。", "en": "No frame of the video could be read."},
    "video_gone": {"zh": "该视频已不再保存（可能已被删除或撤回同意），无法再次分析。",
                   "en": "The video is no longer stored (deleted, or consent withdrawn), "
                         "so it cannot be analysed again."},
    "trainee_undecided": {"zh": "无法通过服装区分学员与对方（两人穿着相近？）。请指定学员在画面左侧或右侧后重新评分。",
                          "en": "The clothes did not tell the trainee from the other person (dressed alike?). "
                                "Score it again saying whether the trainee is on the left or the right."},
    "profile_no_clothes": {"zh": "该学员的校准中没有服装颜色，无法按服装识别。请重新校准，或指定学员在左侧或右侧。",
                           "en": "The trainee's calibration holds no clothing colours; calibrate again, "
                                 "or say whether the trainee is on the left or the right."},
    # Uploads refused before anything is stored (server/uploads.py codes).
    "too_large": {"zh": "文件超过上传大小限制，请压缩或剪短后重试。",
                  "en": "The file is over the upload size limit; compress or shorten it and try again."},
    "empty": {"zh": "文件是空的。", "en": "The file is empty."},
    "output_is_folder": {"zh": "输出位置是一个文件夹：请给出文件名（例如 文件夹/report.html）。",
                         "en": "The output is a folder: give a file name (e.g. folder/report.html)."},
    "output_not_folder": {"zh": "这里需要一个文件夹，但给出的是一个文件：请换一个文件夹。",
                          "en": "A folder is needed here, but a file was given: choose a folder."},
    "output_not_writable": {"zh": "无法写入输出位置（只读、没有权限或磁盘已满），请换一个文件夹。",
                            "en": "The output cannot be written there (read-only, no permission or disk full); "
                                  "choose another folder."},
    "conflict": {"zh": "与已有数据冲突（名称或邮箱已被使用，或引用的记录不存在）。",
                 "en": "This conflicts with existing data (a name or e-mail already in use, or a record "
                       "that does not exist)."},
    # The live socket's errors (server/app._send).
    "bad_message": {"zh": "控制消息格式不正确。", "en": "The control message is not valid."},
    "bad_frame": {"zh": "收到的画面不是有效的 JPEG 图像。", "en": "The frame is not a valid JPEG image."},
    "frame_too_large": {"zh": "画面数据太大。", "en": "The frame is too large."},
    "frame_too_many_pixels": {"zh": "画面分辨率太高（像素过多），请发送 640×480 左右的画面。",
                              "en": "The frame has too many pixels; send frames of about 640×480."},
    "unknown_drill": {"zh": "没有这个练习项目。", "en": "There is no such drill."},
    "nothing_to_recover": {"zh": "没有可以恢复的练习。", "en": "There is no practice to recover."},
    "bad_profile": {"zh": "保存的个人校准已失效，请重新校准。",
                    "en": "The kept personal calibration is no longer valid; calibrate again."},
    "busy_running": {"zh": "请先结束练习或校准。", "en": "Stop the practice or calibration first."},
    "busy": {"zh": "教练正忙于其他练习，请稍后再试。", "en": "The coach is busy with other sessions; try again later."},
    "file_not_found": {"zh": "找不到这个文件，请检查路径。", "en": "The file was not found; check the path."},
    "corrupt_video": {"zh": "视频无法解码（已损坏、不完整或编码不受支持），请导出为 H.264 MP4 后重试。",
                      "en": "The video cannot be decoded (damaged, incomplete or an unsupported codec); "
                            "export it as H.264 MP4 and try again."},
    "video_too_short": {"zh": "视频只有一帧，无法评分。请录制至少几秒钟的视频。",
                        "en": "The video holds a single frame and cannot be scored; record at least a few seconds."},
    "no_file": {"zh": "没有收到文件，请选择一个视频。", "en": "No file arrived; choose a video."},
    "consent_required": {"zh": "需要被拍摄者同意保存视频后才能上传。",
                         "en": "The person filmed must agree to the video being stored before it is uploaded."},
    "consent_not_recorded": {"zh": "此学员的记录为“不同意保存录像”，不能上传其录像。请由本人或HR先登记同意。",
                             "en": "This person's record says no consent to videos being stored, so their "
                                   "recordings cannot be uploaded. The person or HR must record consent first."},
    "onboarding_live_only": {"zh": "入职自检需要在实时练习页面完成，不能上传录像代替。",
                             "en": "The onboarding self-check is done on the live practice page; a video cannot be "
                                   "uploaded in its place."},
    "not_own_recording": {"zh": "学员只能上传自己的录像。", "en": "Trainees upload their own recordings only."},
    "not_in_cohort": {"zh": "此人不在您负责的培训班中。", "en": "This person is not in one of your cohorts."},
    "moving": {"zh": "校准失败：记录时您在移动。请以端正、自然的姿势保持静止约 2 秒后重试。",
               "en": "Calibration failed: you were moving. Hold an upright, natural posture still "
                     "for about 2 seconds and try again."},
    "recording_invalid": {"zh": "关键点记录文件格式有误或版本未知。",
                          "en": "The landmark recording is malformed or of an unknown version."},
    "live_session_gone": {"zh": "这次练习已结束超过 15 分钟（或服务已重启），结果无法再保存。",
                          "en": "That practice ended more than 15 minutes ago (or the server restarted); "
                                "its result can no longer be saved."},
    "wrong_save_token": {"zh": "保存凭证不对：只有进行这次练习的页面可以保存它。",
                         "en": "Wrong save token: only the page that ran this practice can save it."},
    "nothing_to_save": {"zh": "还没有已结束的练习可以保存，请先结束练习。",
                        "en": "There is no finished practice to save yet; stop the practice first."},
    "not_a_trainee": {"zh": "只有学员可以把练习结果保存到自己的记录中。",
                      "en": "Only a trainee saves a practice result, to their own record."},
    "saved_by_other": {"zh": "这次练习已由另一位学员保存。", "en": "Another trainee has already saved this practice."},
    # Sign-in and access (server/auth.py, server/store_api.py).
    "wrong_login": {"zh": "用户名或密码错误，请重新输入。", "en": "Wrong user name or password."},
    "too_many_logins": {"zh": "密码错误次数过多，该账号暂时锁定，请几分钟后再试。",
                        "en": "Too many wrong passwords: this account is locked for a few minutes; try again later."},
    "login_disabled": {"zh": "此账号已停用，不能再登录。如有疑问，请联系人力资源部门。",
                       "en": "This login has been disabled and can no longer sign in; if you think this is a "
                             "mistake, ask HR."},
    "signed_out": {"zh": "尚未登录，或登录已过期，请重新登录。",
                   "en": "You are not signed in, or your sign-in has expired; sign in again."},
    "stale_page": {"zh": "页面已过期，请刷新页面后重试。", "en": "This page is out of date; reload it and try again."},
    "forbidden": {"zh": "您的账号没有权限执行此操作。", "en": "Your account is not allowed to do this."},
    "not_found": {"zh": "找不到该记录（可能已被删除）。", "en": "Not found (it may have been deleted)."},
    "bad_request": {"zh": "输入有误，请检查后重试。",
                    "en": "Something in the request is wrong; check it and try again."},
    # Trainer review (server/store_api.py, store/repo.py).
    "missed_time_out_of_range": {"zh": "时间不在录像范围内：请填写 0 到录像时长之间的秒数（留空表示整段录像）。",
                                 "en": "That time is outside the recording: give a time from 0 to the "
                                       "recording's length in seconds (leave it empty for the whole recording)."},
    "session_not_analysed": {"zh": "这段录像还没有分析完成（或分析失败），不能补充漏标的问题。",
                             "en": "This recording has not been analysed (or its analysis failed), so no missed "
                                   "violation can be added to it."},
    "chromium_missing": {"zh": "服务器上没有安装 Chromium，无法生成 PDF；请改看网页版报告，或请管理员安装 chromium。",
                         "en": "Chromium is not installed on the server, so no PDF can be made; read the web "
                               "report, or ask the administrator to install chromium."},
    "pdf_failed": {"zh": "生成 PDF 失败，请稍后重试，或改看网页版报告。",
                   "en": "The PDF could not be made; try again later, or read the web report."},
    "not_your_entry": {"zh": "只有添加这条记录的培训师可以删除它。",
                       "en": "Only the trainer who added this entry can delete it."},
    # HR administration (server/store_api.py, store/repo.py).
    "own_login": {"zh": "不能停用您自己的账号（以免没有人能再管理），请由另一位人力资源管理员操作。",
                  "en": "You cannot disable your own login (so that HR is never locked out); "
                        "another HR admin can."},
    "cohort_name_empty": {"zh": "培训班名称不能为空。", "en": "A cohort's name cannot be empty."},
    "cohort_name_control": {"zh": "培训班名称不能包含换行、制表符等控制字符。",
                            "en": "A cohort's name cannot hold control characters (a line break, a tab…)."},
    "person_name_empty": {"zh": "学员姓名不能为空。", "en": "A person's name cannot be empty."},
    "person_name_control": {"zh": "学员姓名不能包含换行、制表符等控制字符。",
                            "en": "A person's name cannot hold control characters (a line break, a tab…)."},
    "not_a_trainer": {"zh": "所选账号不是培训师账号：培训班的负责人必须是培训师（请先添加培训师账号）。",
                      "en": "That login is not a trainer's: a cohort's trainer must have a trainer login "
                            "(add one first)."},
    "consent_not_yours": {"zh": "只有学员本人或人力资源管理员可以更改录像同意。",
                          "en": "Only the person themself or HR can change their consent."},
    "cross_site_login": {"zh": "登录被拒绝：请直接在本系统的页面上登录（不接受来自其他网站的登录请求）。",
                         "en": "Sign-in refused: sign in on this system's own page (a sign-in sent from "
                               "another site is not accepted)."},
    "one_file_per_upload": {"zh": "一次只能上传一个录像文件。", "en": "Upload one video file at a time."},
    "unknown_scenario": {"zh": "没有这个练习场景，请从列表中选择。",
                         "en": "There is no such scenario; choose one from the list."},
    "cohort_name_too_long": {"zh": "培训班名称太长：最多 200 个字符。",
                             "en": "The cohort's name is too long: at most 200 characters."},
    "cohort_name_taken": {"zh": "已有培训班使用这个名称，请换一个名称。",
                          "en": "Another cohort already has this name; choose another."},
}


def reason_of(exc: BaseException) -> str:
    """The :data:`REASON_TEXTS` key of a failure: a :class:`CoachError`'s own reason
    (``analysis_failed`` when it has no text), anything else ``internal_error``."""
    if isinstance(exc, CoachError):
        return exc.reason if exc.reason in REASON_TEXTS else "analysis_failed"
    return "internal_error"


def reason_texts(reason: str | None) -> dict[str, str] | None:
    """Both languages' text of a reason code (``None`` for none or an unknown code)."""
    return REASON_TEXTS.get(reason) if reason else None


#: Things the analysis noticed about the input that do not stop it but change how far its
#: results can be trusted (``report["notices"]``: ``{"code": ..., **numbers}``), in both
#: languages; ``{checks}``/``{found}`` are filled from the notice.
NOTICE_TEXTS: dict[str, dict[str, str]] = {
    "one_person_in_role_play": {
        "zh": "选择了两人角色扮演，但只有 {found}/{checks} 帧看到了第二个人：这像是一个人的练习。按角色扮演分析时，"
              "握手、递物和距离规则可能判断错误。请作为个人练习重新分析（不选学员所在一侧）。",
        "en": "A role-play was chosen, but a second person was seen on only {found} of {checks} frames: this "
              "looks like practice alone, and judged as a role-play the handshake, handover and distance "
              "rules may be wrong. Analyse it again as practice alone (no trainee side).",
    },
    "video_truncated": {
        "zh": "视频在第 {read_s} 秒处中断（文件不完整或已损坏，全长应为 {total_s} 秒）：只对能读取的前 {read_s} 秒"
              "评分，之后的部分没有评分。需要完整结果时，请重新导出或上传完整的视频。",
        "en": "The video stops part-way, at {read_s} s of {total_s} s (incomplete or damaged): only the first "
              "{read_s} s, the part that could be read, were scored, nothing after it. For a complete result, "
              "export or upload the whole video again.",
    },
    "video_sideways": {
        "zh": "画面中的人是横着的（抽查的 {checks} 帧中有 {found} 帧身体横躺在画面里）：这段视频很可能被转了 90°"
              "（例如手机竖拍但没有记录方向）。按这样的画面评分，站姿会被误判为坐姿等，结果不可信。请把视频转正后重新分析。",
        "en": "The person lies across the picture (the trunk was sideways on {found} of {checks} frames): the video "
              "was most likely turned 90° (e.g. filmed on a phone that did not record its orientation). Scored "
              "this way, standing reads as sitting and the like: the results cannot be trusted. Rotate the "
              "video upright and analyse it again.",
    },
    "two_people_in_view": {
        "zh": "画面里有两个人（抽查的 {checks} 帧中有 {found} 帧）：这像是一段角色扮演，却按一个人练习来分析了——"
              "只跟踪了姿态模型选中的那一个人，并把镜头当作顾客。请重新作为角色扮演分析，并指明学员站在画面哪一侧"
              "（审阅页面：上传时在“画面中的人”里选择学员所在一侧；命令行：--role-play left、right 或 profile）。",
        "en": "Two people are in view (on {found} of {checks} frames checked): this looks like a role-play analysed "
              "as practice alone. Only the person the pose model picked was followed, and the camera stood in for "
              "the customer. Analyse it again as a role-play, saying which side the trainee stands on "
              "(on the review page: \"People in view\" when uploading; on the command line: "
              "--role-play left, right or profile).",
    },
}


def notice_text(notice: object, lang: str) -> str | None:
    """A notice's text in ``lang`` (zh/en), its numbers filled in; None for an unknown one."""
    if not isinstance(notice, dict):
        return None
    texts = NOTICE_TEXTS.get(str(notice.get("code")))
    if texts is None:
        return None
    text = texts["zh" if lang == "zh" else "en"]
    names = {f for _, f, _, _ in string.Formatter().parse(text) if f}
    return text.format(**{k: notice.get(k, "?") for k in names})


def notices_with_texts(stored: object) -> list[dict[str, object]]:
    """Stored notices (``{"code", **numbers}``) with their texts in both languages, for
    JSON readers that do not render the HTML report (``analyze -f json``, the API)."""
    items = stored if isinstance(stored, list) else []
    return [{**n, "text": {lang: notice_text(n, lang) for lang in ("zh", "en")}}
            for n in items if isinstance(n, dict)]
