// Chinese labels shared by the ticket workspace and the unit portal.
export const STATUS_ZH = {
  new: "待受理", accepted: "已受理", rejected: "不予受理", dispatched: "已转派", signed: "办理中",
  return_requested: "退单审核中", replied: "已答复待审核", surveying: "待回访", termination_requested: "终结审核中",
  terminated: "已终结", withdrawn: "已撤单", merged: "已并案", closed: "已办结",
};
export const CHANNEL_ZH = {
  phone: "电话", web: "网站", wechat: "微信", mail: "信件", app: "APP", sms: "短信", 110: "110转来",
  national_platform: "国家政务服务平台", leader_board: "领导留言板", upper_platform: "上级平台", other: "其他",
};
export const ACTION_ZH = {
  create: "登记", accept: "受理", reject: "不予受理", resolve_on_call: "即时办结", update: "修改", dispatch: "转派",
  sign: "签收", deem_signed: "视为签收", request_return: "申请退单", approve_return: "同意退单",
  reject_return: "驳回退单", request_extension: "申请延期", approve_extension: "同意延期",
  reject_extension: "驳回延期", reply: "答复", approve_reply: "答复审核通过", reject_reply: "答复退回",
  record_survey: "回访", reopen: "重办", close: "办结", withdraw: "撤单", request_termination: "申请终结",
  approve_termination: "同意终结", reject_termination: "驳回终结", merge: "并案", supervise: "督办", link: "关联",
  escalate: "时限预警",
};
