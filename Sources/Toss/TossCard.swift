public struct TossCard: Sendable, Equatable {
    /// Toss's two-character card company code ("61" = 현대).
    public var issuerCode: String?
    /// Masked as Toss gives it, e.g. "43301234****123*".
    public var number: String?
    /// 신용 | 체크 | 기프트 | 미확인
    public var cardType: String?
    /// 개인 | 법인 | 미확인
    public var ownerType: String?
    public var approveNo: String?
    /// Korean short name of the issuer ("현대", "KB국민"), for showing to the customer.
    public var company: String?

    /// `company` defaults to the name for `issuerCode`.
    public init(issuerCode: String? = nil, number: String? = nil, cardType: String? = nil, ownerType: String? = nil,
                approveNo: String? = nil, company: String? = nil) {
        self.issuerCode = issuerCode
        self.number = number
        self.cardType = cardType
        self.ownerType = ownerType
        self.approveNo = approveNo
        self.company = company ?? issuerCode.flatMap(TossCard.companyName(issuerCode:))
    }

    init(_ fields: JSONFields) {
        self.init(issuerCode: fields.string("issuerCode"), number: fields.string("number"),
                  cardType: fields.string("cardType"), ownerType: fields.string("ownerType"),
                  approveNo: fields.string("approveNo"), company: nil)
    }

    /// Toss's card company codes (카드사 코드), domestic and international.
    public static func companyName(issuerCode: String) -> String? {
        companyNames[issuerCode.uppercased()]
    }

    private static let companyNames: [String: String] = [
        "3K": "기업비씨", "46": "광주", "71": "롯데", "30": "산업", "31": "BC", "51": "삼성", "38": "새마을",
        "41": "신한", "62": "신협", "36": "씨티", "33": "우리", "W1": "우리", "37": "우체국", "39": "저축",
        "35": "전북", "42": "제주", "15": "카카오뱅크", "3A": "케이뱅크", "24": "토스뱅크", "21": "하나",
        "61": "현대", "11": "KB국민", "91": "NH농협", "34": "수협",
        "6D": "다이너스", "4M": "마스터", "3C": "유니온페이", "7A": "아멕스", "4J": "JCB", "4V": "비자",
    ]
}
